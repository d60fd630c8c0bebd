-- The months covered by the population denominators, wing populations or the published populations of
-- prisons known only from published figures: the widest period a rate can use.
SELECT min(month) AS first_month, max(month) AS last_month
FROM (
    SELECT month FROM wing_population
    UNION ALL
    SELECT month FROM prison_population
) AS months
