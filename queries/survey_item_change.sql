-- Paired change per survey item and role, from pre to a later wave (post or follow_up):
-- number of participants, pairs (answered the item in both waves), mean and SD of the change,
-- added up from the cohort_item_change rollup (exact sums of whole-number changes).
WITH chosen AS (
    SELECT c.cohort_id
    FROM chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) c
),
people AS (
    SELECT r.role, sum(r.participants)::BIGINT AS participants
    FROM cohort_role_summary r
    JOIN chosen USING (cohort_id)
    WHERE ($role IS NULL OR r.role = $role) AND r.participants > 0
    GROUP BY r.role
),
changes AS (
    SELECT ch.item, ch.role, sum(ch.pairs) AS pairs, sum(ch.sum_change) AS total, sum(ch.sum_squared_change) AS squares
    FROM cohort_item_change ch
    JOIN chosen USING (cohort_id)
    WHERE ch.later_wave = $later_wave AND ($role IS NULL OR ch.role = $role)
    GROUP BY ALL
),
items AS (SELECT unnest($items) AS item)
SELECT
    items.item,
    people.role,
    people.participants,
    coalesce(changes.pairs, 0)::BIGINT AS pairs,
    changes.total / changes.pairs AS mean_change,
    CASE WHEN changes.pairs > 1
         THEN sqrt(greatest((changes.squares - changes.total * changes.total / changes.pairs) / (changes.pairs - 1), 0))
    END AS sd_change
FROM items
CROSS JOIN people
LEFT JOIN changes ON changes.item = items.item AND changes.role = people.role
ORDER BY items.item, people.role
