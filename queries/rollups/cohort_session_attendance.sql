-- Per cohort, delivered session and role: how many participants attended that session.
SELECT w.cohort_id, w.session_number, p.role, count(*) FILTER (WHERE a.attended) AS attended
FROM workshops w
JOIN attendance a USING (workshop_id)
JOIN participants p USING (participant_id)
WHERE w.status = 'delivered'
GROUP BY ALL
ORDER BY w.cohort_id, w.session_number, p.role
