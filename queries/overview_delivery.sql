-- Cohorts started in the period and what happened to their workshops.
-- A planned session is a (cohort, session number); a rescheduled workshop and its replacement
-- are one planned session, delivered if any of its workshop rows was delivered.
WITH chosen_cohorts AS (
    SELECT cohort_id
    FROM cohorts
    WHERE list_contains($prison_ids, prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, wing_id))
      AND ($wing_ids IS NULL OR $scope_prisons IS NULL OR list_contains($scope_prisons, prison_id))  -- wing detail only in scope
      AND start_date >= $period_start AND start_date < $period_end
),
sessions AS (
    SELECT
        w.cohort_id,
        w.session_number,
        bool_or(w.status = 'delivered') AS delivered,
        count(*) FILTER (WHERE w.status = 'rescheduled') AS rescheduled,
        count(*) FILTER (WHERE w.status = 'cancelled') AS cancelled
    FROM workshops w
    JOIN chosen_cohorts USING (cohort_id)
    GROUP BY ALL
)
SELECT
    (SELECT count(*) FROM chosen_cohorts) AS cohorts,
    count(*) AS sessions_planned,
    count(*) FILTER (WHERE delivered) AS sessions_delivered,
    coalesce(sum(rescheduled), 0)::BIGINT AS workshops_rescheduled,
    coalesce(sum(cancelled), 0)::BIGINT AS workshops_cancelled
FROM sessions
