-- Referrals to mapped services per prison, month and outcome.
SELECT s.prison_id, date_trunc('month', r.referred_on)::DATE AS month, r.outcome, count(*) AS referrals
FROM referrals r
JOIN services s USING (service_id)
GROUP BY ALL
ORDER BY month, s.prison_id, r.outcome
