-- One row per chosen cohort, for the cohort table and the page's headline: delivery (from the
-- cohort_workshops rollup; a cohort with no workshop yet shows zeros), participants by role, the
-- attendance rate over delivered sessions (attendances ÷ participants offered each session), and
-- survey pairs and the mean paired change (from cohort_role_summary). $role narrows the people.
WITH chosen AS (
    SELECT *
    FROM chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id)
),
people AS (
    SELECT
        r.cohort_id,
        sum(r.participants) FILTER (WHERE r.role = 'prisoner') AS prisoners,
        sum(r.participants) FILTER (WHERE r.role = 'staff') AS staff,
        sum(r.participants) AS participants,
        sum(r.pairs) AS pairs,
        sum(r.sum_change) / nullif(sum(r.pairs), 0) AS mean_change
    FROM cohort_role_summary r
    JOIN chosen USING (cohort_id)
    WHERE ($role IS NULL OR r.role = $role)
    GROUP BY r.cohort_id
),
attendance AS (
    SELECT a.cohort_id, sum(a.attended) AS attended, sum(r.participants) AS offered
    FROM cohort_session_attendance a
    JOIN cohort_role_summary r USING (cohort_id, role)
    JOIN chosen USING (cohort_id)
    WHERE ($role IS NULL OR a.role = $role)
    GROUP BY a.cohort_id
)
SELECT
    c.cohort_id,
    c.prison_id,
    pr.name AS prison_name,
    c.wing_id,
    wg.wing_name,
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
    datediff('day', w.first_delivered, w.last_delivered) AS days_first_to_last,
    coalesce(p.prisoners, 0)::BIGINT AS prisoners,
    coalesce(p.staff, 0)::BIGINT AS staff,
    a.attended / nullif(a.offered, 0) AS attendance_rate,
    coalesce(p.pairs, 0)::BIGINT AS pairs,
    p.pairs / nullif(p.participants, 0) AS response_rate,
    p.mean_change
FROM chosen c
LEFT JOIN cohort_workshops w USING (cohort_id)
LEFT JOIN people p USING (cohort_id)
LEFT JOIN attendance a USING (cohort_id)
LEFT JOIN prisons pr ON pr.prison_id = c.prison_id
LEFT JOIN wings wg ON wg.wing_id = c.wing_id
ORDER BY c.start_date, c.cohort_id
