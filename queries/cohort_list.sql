-- Cohorts in the sidebar's places and period (before the page's SDM and cohort choices), for
-- the page's pickers.
SELECT c.cohort_id, c.prison_id, c.wing_id, c.sdm, c.start_date
FROM cohorts c
WHERE list_contains($prison_ids, c.prison_id)
  AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
  AND c.start_date >= $period_start AND c.start_date < $period_end
  AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
ORDER BY c.start_date, c.cohort_id
