-- Paired change per survey item and role, from pre to a later wave (post or follow_up):
-- number of participants, pairs (answered the item in both waves), mean and SD of the change.
WITH chosen AS (
    SELECT p.participant_id, p.role
    FROM participants p
    JOIN cohorts c USING (cohort_id)
    WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND c.start_date >= $period_start AND c.start_date < $period_end
      AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
      AND ($sdm IS NULL OR c.sdm = $sdm)
      AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
      AND ($role IS NULL OR p.role = $role)
),
pairs AS (
    SELECT
        s.participant_id,
        s.item,
        max(s.score) FILTER (WHERE s.wave = 'pre') AS before,
        max(s.score) FILTER (WHERE s.wave = $later_wave) AS after
    FROM survey_responses s
    JOIN chosen USING (participant_id)
    WHERE s.wave IN ('pre', $later_wave)
    GROUP BY ALL
    HAVING before IS NOT NULL AND after IS NOT NULL
),
items AS (SELECT unnest($items) AS item),
roles AS (SELECT DISTINCT role FROM chosen)
SELECT
    items.item,
    roles.role,
    (SELECT count(*) FROM chosen WHERE chosen.role = roles.role) AS participants,
    count(pairs.participant_id) AS pairs,
    avg(pairs.after - pairs.before) AS mean_change,
    stddev_samp(pairs.after - pairs.before) AS sd_change
FROM items
CROSS JOIN roles
LEFT JOIN (pairs JOIN chosen USING (participant_id)) ON pairs.item = items.item AND chosen.role = roles.role
GROUP BY ALL
ORDER BY items.item, roles.role
