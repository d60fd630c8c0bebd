-- Headline survey outcome for cohorts started in [period_start, period_end): participants with
-- both a pre and a post survey (pairs), how many improved (mean post > mean pre over the items
-- answered in both), and the mean and SD of the change. Aggregates only.
WITH chosen AS (
    SELECT p.participant_id
    FROM participants p JOIN cohorts c USING (cohort_id)
    WHERE c.start_date >= $period_start AND c.start_date < $period_end
)
SELECT
    count(pc.change) AS pairs,
    count(*) FILTER (WHERE pc.change > 0) AS improved,
    avg(pc.change) AS mean_change,
    stddev_samp(pc.change) AS sd_change
FROM chosen
JOIN participant_survey_change pc USING (participant_id)
