-- How many answers of each score per cohort, role, item and wave.
SELECT p.cohort_id, p.role, s.item, s.wave, s.score, count(*) AS answers
FROM survey_responses s
JOIN participants p USING (participant_id)
GROUP BY ALL
ORDER BY p.cohort_id, p.role, s.item, s.wave, s.score
