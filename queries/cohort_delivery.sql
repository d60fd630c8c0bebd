-- Each chosen cohort's delivery: planned sessions (cohort × session number), delivered sessions,
-- workshops by status, and the dates of its first and last delivered workshops (from the
-- cohort_workshops rollup; a cohort with no workshop yet shows zeros).
SELECT
    c.cohort_id,
    c.prison_id,
    c.wing_id,
    c.sdm,
    c.start_date,
    c.cost_gbp,
    coalesce(w.sessions_planned, 0) AS sessions_planned,
    coalesce(w.sessions_delivered, 0) AS sessions_delivered,
    coalesce(w.workshops_delivered, 0) AS workshops_delivered,
    coalesce(w.workshops_rescheduled, 0) AS workshops_rescheduled,
    coalesce(w.workshops_cancelled, 0) AS workshops_cancelled,
    w.first_scheduled,
    w.first_delivered,
    w.last_delivered,
    datediff('day', w.first_delivered, w.last_delivered) AS days_first_to_last
FROM chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) c
LEFT JOIN cohort_workshops w USING (cohort_id)
ORDER BY c.start_date, c.cohort_id
