-- For each chosen cohort, delivered session and role: participants of the cohort and how many
-- attended that session (the delivered workshop of the session).
WITH chosen AS (
    SELECT c.cohort_id
    FROM chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) c
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
