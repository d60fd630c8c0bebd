-- Each chosen cohort's delivery: planned sessions (cohort × session number), delivered sessions,
-- workshops by status, and the dates of its first and last delivered workshops.
WITH chosen AS (
    SELECT c.cohort_id, c.prison_id, c.wing_id, c.sdm, c.start_date, c.cost_gbp
    FROM cohorts c
    WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND c.start_date >= $period_start AND c.start_date < $period_end
      AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
      AND ($sdm IS NULL OR c.sdm = $sdm)
      AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
),
sessions AS (
    SELECT cohort_id, session_number, bool_or(status = 'delivered') AS delivered
    FROM workshops JOIN chosen USING (cohort_id)
    GROUP BY ALL
),
rows AS (
    SELECT
        cohort_id,
        count(*) FILTER (WHERE status = 'delivered') AS workshops_delivered,
        count(*) FILTER (WHERE status = 'rescheduled') AS workshops_rescheduled,
        count(*) FILTER (WHERE status = 'cancelled') AS workshops_cancelled,
        min(scheduled_on) AS first_scheduled,
        min(delivered_on) AS first_delivered,
        max(delivered_on) AS last_delivered
    FROM workshops JOIN chosen USING (cohort_id)
    GROUP BY cohort_id
)
SELECT
    chosen.*,
    coalesce((SELECT count(*) FROM sessions s WHERE s.cohort_id = chosen.cohort_id), 0) AS sessions_planned,
    coalesce((SELECT count(*) FILTER (WHERE s.delivered) FROM sessions s WHERE s.cohort_id = chosen.cohort_id), 0) AS sessions_delivered,
    coalesce(r.workshops_delivered, 0) AS workshops_delivered,
    coalesce(r.workshops_rescheduled, 0) AS workshops_rescheduled,
    coalesce(r.workshops_cancelled, 0) AS workshops_cancelled,
    r.first_scheduled,
    r.first_delivered,
    r.last_delivered,
    datediff('day', r.first_delivered, r.last_delivered) AS days_first_to_last
FROM chosen
LEFT JOIN rows r USING (cohort_id)
ORDER BY chosen.start_date, chosen.cohort_id
