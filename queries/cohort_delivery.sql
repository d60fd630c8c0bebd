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
FROM cohorts c
LEFT JOIN cohort_workshops w USING (cohort_id)
WHERE list_contains($prison_ids, c.prison_id)
  AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
  AND c.start_date >= $period_start AND c.start_date < $period_end
  AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
  AND ($sdm IS NULL OR c.sdm = $sdm)
  AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
ORDER BY c.start_date, c.cohort_id
