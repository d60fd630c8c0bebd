-- Prisons and wings in the current filter.
SELECT
    count(DISTINCT w.prison_id) AS prisons,
    count(*) AS wings
FROM wings w
WHERE list_contains($prison_ids, w.prison_id)
  AND ($wing_ids IS NULL OR list_contains($wing_ids, w.wing_id))
  AND ($wing_ids IS NULL OR can_see_wings(w.prison_id, $scope_prisons))
