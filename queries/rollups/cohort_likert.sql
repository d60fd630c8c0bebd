-- How many answers of each score (1 to 5) per cohort, role, item and wave: one row per
-- cohort × role × item × wave, the five counts side by side.
SELECT
    p.cohort_id,
    p.role,
    s.item,
    s.wave,
    count(*) FILTER (WHERE s.score = 1) AS score_1,
    count(*) FILTER (WHERE s.score = 2) AS score_2,
    count(*) FILTER (WHERE s.score = 3) AS score_3,
    count(*) FILTER (WHERE s.score = 4) AS score_4,
    count(*) FILTER (WHERE s.score = 5) AS score_5
FROM survey_responses s
JOIN participants p USING (participant_id)
GROUP BY ALL
ORDER BY p.cohort_id, p.role, s.item, s.wave
