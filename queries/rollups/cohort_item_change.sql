-- Per cohort, role, item and later wave (post or follow_up): participants who answered the item
-- both before and then (pairs), and the sum and sum of squares of their change, so any set of
-- cohorts gives an exact mean and SD by adding rows (scores are whole numbers).
WITH items AS (
    SELECT
        participant_id,
        item,
        max(score) FILTER (WHERE wave = 'pre') AS pre,
        max(score) FILTER (WHERE wave = 'post') AS post,
        max(score) FILTER (WHERE wave = 'follow_up') AS follow_up
    FROM survey_responses
    GROUP BY ALL
),
changes AS (
    SELECT p.cohort_id, p.role, i.item, 'post' AS later_wave, i.post - i.pre AS change
    FROM items i JOIN participants p USING (participant_id)
    WHERE i.pre IS NOT NULL AND i.post IS NOT NULL
    UNION ALL
    SELECT p.cohort_id, p.role, i.item, 'follow_up' AS later_wave, i.follow_up - i.pre AS change
    FROM items i JOIN participants p USING (participant_id)
    WHERE i.pre IS NOT NULL AND i.follow_up IS NOT NULL
)
SELECT
    cohort_id,
    role,
    item,
    later_wave,
    count(*) AS pairs,
    sum(change)::BIGINT AS sum_change,
    sum(change * change)::BIGINT AS sum_squared_change
FROM changes
GROUP BY ALL
ORDER BY cohort_id, role, item, later_wave
