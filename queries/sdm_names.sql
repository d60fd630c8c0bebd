-- The Service Delivery Managers named in the cohorts the viewer may see.
SELECT DISTINCT c.sdm
FROM cohorts c
WHERE can_see_cohort(c.prison_id, c.sdm, $scope_prisons, $scope_sdm)
ORDER BY c.sdm
