-- Headline survey outcome for cohorts started in [period_start, period_end): participants with
-- both a pre and a post survey (pairs), how many improved (mean post > mean pre over the items
-- answered in both), and the mean and SD of the change. Aggregates only.
WITH chosen AS (
    SELECT p.participant_id
    FROM participants p JOIN cohorts c USING (cohort_id)
    WHERE c.start_date >= $period_start AND c.start_date < $period_end
),
item_pairs AS (
    SELECT s.participant_id, s.item,
           max(s.score) FILTER (WHERE s.wave = 'pre') AS pre,
           max(s.score) FILTER (WHERE s.wave = 'post') AS post
    FROM survey_responses s JOIN chosen USING (participant_id)
    GROUP BY ALL
    HAVING pre IS NOT NULL AND post IS NOT NULL
),
per_person AS (
    SELECT participant_id, avg(post - pre) AS change FROM item_pairs GROUP BY participant_id
)
SELECT
    count(*) AS pairs,
    count(*) FILTER (WHERE change > 0) AS improved,
    avg(change) AS mean_change,
    stddev_samp(change) AS sd_change
FROM per_person
