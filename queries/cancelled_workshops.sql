-- Cancelled workshops of the chosen cohorts, with when and why.
SELECT w.workshop_id, w.cohort_id, c.prison_id, w.session_number, w.scheduled_on, w.cancellation_reason
FROM workshops w
JOIN cohorts c USING (cohort_id)
WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND c.start_date >= $period_start AND c.start_date < $period_end
      AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
      AND ($sdm IS NULL OR c.sdm = $sdm)
      AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
  AND w.status = 'cancelled'
ORDER BY w.scheduled_on
