-- Wings of the chosen prisons, with how many cohorts of The Conversation each has had.
SELECT
    w.wing_id,
    w.prison_id,
    w.wing_name,
    w.capacity,
    (SELECT count(*) FROM cohorts c WHERE c.wing_id = w.wing_id) AS cohorts
FROM wings w
WHERE list_contains($prison_ids, w.prison_id)
  AND can_see_wings(w.prison_id, $scope_prisons)
ORDER BY w.prison_id, w.wing_id
