-- The Service Delivery Managers named in the cohorts the viewer may see.
SELECT DISTINCT c.sdm
FROM cohorts c
WHERE ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)
ORDER BY c.sdm
