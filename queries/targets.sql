-- The delivery targets agreed for a programme: those of one campaign, and those agreed for the programme
-- as a whole (no campaign), in the order their periods start.
SELECT target_id, programme, funder, campaign_id, indicator, period_start, period_end, target_value
FROM targets
WHERE programme = $programme
  AND (campaign_id IS NULL OR campaign_id = $campaign_id)
ORDER BY period_start, target_id
