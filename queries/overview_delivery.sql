-- Cohorts started in the period and what happened to their workshops.
-- A planned session is a (cohort, session number); a rescheduled workshop and its replacement
-- are one planned session, delivered if any of its workshop rows was delivered (cohort_workshops).
WITH chosen_cohorts AS (
    SELECT cohort_id
    FROM cohorts
    WHERE in_chosen_places(prison_id, wing_id, $prison_ids, $wing_ids, $scope_prisons)
      AND start_date >= $period_start AND start_date < $period_end
)
SELECT
    count(*) AS cohorts,
    coalesce(sum(w.sessions_planned), 0)::BIGINT AS sessions_planned,
    coalesce(sum(w.sessions_delivered), 0)::BIGINT AS sessions_delivered,
    coalesce(sum(w.workshops_rescheduled), 0)::BIGINT AS workshops_rescheduled,
    coalesce(sum(w.workshops_cancelled), 0)::BIGINT AS workshops_cancelled
FROM chosen_cohorts
LEFT JOIN cohort_workshops w USING (cohort_id)
