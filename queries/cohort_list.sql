-- Cohorts in the sidebar's places and period (before the page's SDM and cohort choices), for
-- the page's pickers.
SELECT c.cohort_id, c.prison_id, c.wing_id, c.sdm, c.start_date
FROM chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, NULL, NULL) c
ORDER BY c.start_date, c.cohort_id
