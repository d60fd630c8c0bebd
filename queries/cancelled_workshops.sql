-- Cancelled workshops of the chosen cohorts, with when and why.
SELECT w.workshop_id, w.cohort_id, c.prison_id, w.session_number, w.scheduled_on, w.cancellation_reason
FROM workshops w
JOIN chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) c USING (cohort_id)
WHERE w.status = 'cancelled'
ORDER BY w.scheduled_on
