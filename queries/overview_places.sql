-- Prisons and wings in the current filter.
SELECT
    count(DISTINCT w.prison_id) AS prisons,
    count(*) AS wings
FROM wings w
WHERE in_chosen_places(w.prison_id, w.wing_id, $prison_ids, $wing_ids, $scope_prisons)
