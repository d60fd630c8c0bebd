-- The prisons where cohorts of The Conversation started in [period_start, period_end): the only
-- prisons whose wings a campaign's comparison of programme and comparison wings needs to read.
SELECT DISTINCT prison_id
FROM cohorts
WHERE start_date >= $period_start AND start_date < $period_end
ORDER BY prison_id
