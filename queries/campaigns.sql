-- Every campaign, newest first.
SELECT campaign_id, programme, name, platform, opens_at, closes_at, target_gbp, match_pledged_gbp, champion
FROM campaigns
ORDER BY opens_at DESC
