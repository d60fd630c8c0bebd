-- For each chosen cohort, delivered session and role: participants of the cohort and how many
-- attended that session (the delivered workshop of the session).
WITH chosen AS (
    SELECT c.cohort_id FROM cohorts c
    WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND c.start_date >= $period_start AND c.start_date < $period_end
      AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
      AND ($sdm IS NULL OR c.sdm = $sdm)
      AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
),
people AS (
    SELECT r.cohort_id, r.role, r.participants
    FROM cohort_role_summary r JOIN chosen USING (cohort_id)
    WHERE ($role IS NULL OR r.role = $role)
)
SELECT a.cohort_id, a.session_number, a.role, people.participants, a.attended
FROM cohort_session_attendance a
JOIN people USING (cohort_id, role)
WHERE ($role IS NULL OR a.role = $role)
ORDER BY a.cohort_id, a.session_number, a.role
