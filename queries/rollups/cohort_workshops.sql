-- Per cohort: planned sessions (session numbers scheduled), sessions delivered (a session counts
-- once however often it was rescheduled), workshops by status, and the dates of the first
-- scheduled, first delivered and last delivered workshops. Cohorts with no workshop yet are absent.
WITH sessions AS (
    SELECT cohort_id, session_number, bool_or(status = 'delivered') AS delivered
    FROM workshops
    GROUP BY ALL
),
session_counts AS (
    SELECT cohort_id, count(*) AS sessions_planned, count(*) FILTER (WHERE delivered) AS sessions_delivered
    FROM sessions
    GROUP BY cohort_id
)
SELECT
    w.cohort_id,
    any_value(s.sessions_planned) AS sessions_planned,
    any_value(s.sessions_delivered) AS sessions_delivered,
    count(*) FILTER (WHERE w.status = 'delivered') AS workshops_delivered,
    count(*) FILTER (WHERE w.status = 'rescheduled') AS workshops_rescheduled,
    count(*) FILTER (WHERE w.status = 'cancelled') AS workshops_cancelled,
    min(w.scheduled_on) AS first_scheduled,
    min(w.delivered_on) AS first_delivered,
    max(w.delivered_on) AS last_delivered
FROM workshops w
JOIN session_counts s USING (cohort_id)
GROUP BY w.cohort_id
ORDER BY w.cohort_id
