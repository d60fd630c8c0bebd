-- What The Conversation delivered in [period_start, period_end) (cohorts by start date):
-- cohorts, delivered workshops and hours, people reached (attended at least one delivered
-- workshop) by role, and costs over the cohorts that recorded one.
WITH chosen AS (
    SELECT cohort_id, cost_gbp FROM cohorts
    WHERE start_date >= $period_start AND start_date < $period_end
),
delivered AS (
    SELECT w.workshop_id, w.cohort_id, w.duration_hours
    FROM workshops w JOIN chosen USING (cohort_id)
    WHERE w.status = 'delivered'
),
reached AS (
    SELECT DISTINCT p.participant_id, p.role, p.cohort_id
    FROM attendance a
    JOIN delivered USING (workshop_id)
    JOIN participants p USING (participant_id)
    WHERE a.attended
),
costed AS (SELECT cohort_id, cost_gbp FROM chosen WHERE cost_gbp IS NOT NULL)
SELECT
    (SELECT count(*) FROM chosen) AS cohorts,
    (SELECT count(*) FROM delivered) AS workshops_delivered,
    (SELECT coalesce(sum(duration_hours), 0) FROM delivered) AS workshop_hours,
    (SELECT count(*) FROM reached WHERE role = 'prisoner') AS prisoners_reached,
    (SELECT count(*) FROM reached WHERE role = 'staff') AS staff_reached,
    (SELECT count(*) FROM costed) AS costed_cohorts,
    (SELECT coalesce(sum(cost_gbp), 0) FROM costed) AS cost_gbp,
    (SELECT count(*) FROM reached JOIN costed USING (cohort_id)) AS costed_participants_reached,
    (SELECT coalesce(sum(duration_hours), 0) FROM delivered JOIN costed USING (cohort_id)) AS costed_workshop_hours
