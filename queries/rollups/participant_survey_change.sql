-- One row per participant: whether they answered a pre survey, and their paired change to post
-- (mean post score minus mean pre score over the items answered in both; NULL without a pair).
-- Built once at load, so survey summaries never re-pivot millions of answers.
WITH items AS (
    SELECT
        participant_id,
        item,
        max(score) FILTER (WHERE wave = 'pre') AS pre,
        max(score) FILTER (WHERE wave = 'post') AS post
    FROM survey_responses
    GROUP BY ALL
)
SELECT
    participant_id,
    bool_or(pre IS NOT NULL) AS answered_pre,
    avg(post - pre) AS change
FROM items
GROUP BY participant_id
ORDER BY participant_id
