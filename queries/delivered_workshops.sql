-- Delivered workshops of The Conversation at one prison, with their cohort's wing.
SELECT c.cohort_id, c.wing_id, c.sdm, w.session_number, w.delivered_on
FROM workshops w
JOIN cohorts c USING (cohort_id)
WHERE c.prison_id = $prison_id
  AND can_see_cohort(c.prison_id, c.sdm, $scope_prisons, $scope_sdm)
  AND w.status = 'delivered'
ORDER BY w.delivered_on, c.cohort_id
