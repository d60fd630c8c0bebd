-- Giving to one campaign day by day (UTC): running totals with the match, in whole pounds. A day,
-- not an hour or a gift: in a quiet campaign each hourly step was one gift, so the chart gave back
-- the gift count that the figures round.
WITH daily AS (
    SELECT date_trunc('day', donated_at) AS day, sum(amount_gbp) AS raised_gbp, sum(matched_gbp) AS matched_gbp
    FROM donations
    WHERE campaign_id = $campaign_id
    GROUP BY ALL
)
SELECT
    day,
    round(sum(raised_gbp) OVER (ORDER BY day)) AS cumulative_raised_gbp,
    round(sum(raised_gbp + matched_gbp) OVER (ORDER BY day)) AS cumulative_total_gbp
FROM daily
ORDER BY day
