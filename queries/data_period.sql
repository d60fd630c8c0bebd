-- The months covered by the population denominators: the widest period a rate can use.
SELECT min(month) AS first_month, max(month) AS last_month
FROM wing_population
