-- Giving to one campaign hour by hour: gifts and amounts, and running totals with the match.
WITH hourly AS (
    SELECT date_trunc('hour', donated_at) AS hour, count(*) AS gifts, sum(amount_gbp) AS raised_gbp, sum(matched_gbp) AS matched_gbp
    FROM donations
    WHERE campaign_id = $campaign_id
    GROUP BY ALL
)
SELECT
    hour,
    gifts,
    raised_gbp,
    matched_gbp,
    sum(raised_gbp) OVER (ORDER BY hour) AS cumulative_raised_gbp,
    sum(raised_gbp + matched_gbp) OVER (ORDER BY hour) AS cumulative_total_gbp
FROM hourly
ORDER BY hour
