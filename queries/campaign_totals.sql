-- One campaign's giving: gifts, raised, match released, and the median and mean gift.
SELECT
    count(*) AS gifts,
    coalesce(sum(amount_gbp), 0) AS raised_gbp,
    coalesce(sum(matched_gbp), 0) AS matched_gbp,
    median(amount_gbp) AS median_gift_gbp,
    avg(amount_gbp) AS mean_gift_gbp
FROM donations
WHERE campaign_id = $campaign_id
