-- The cohorts a page asks for and the viewer may see in detail: in the chosen prisons (and wings),
-- started in [period_start, period_end), of one SDM or one cohort when given (NULL: any). The one
-- place the cohort-detail scope is applied: a governor's prisons, or an SDM's own cohorts.
CREATE OR REPLACE MACRO chosen_cohorts(prison_ids, wing_ids, period_start, period_end, scope_prisons, scope_sdm,
                                       chosen_sdm, chosen_cohort) AS TABLE
SELECT c.*
FROM cohorts c
WHERE list_contains(prison_ids, c.prison_id)
  AND (wing_ids IS NULL OR list_contains(wing_ids, c.wing_id))
  AND c.start_date >= period_start AND c.start_date < period_end
  AND can_see_cohort(c.prison_id, c.sdm, scope_prisons, scope_sdm)
  AND (chosen_sdm IS NULL OR c.sdm = chosen_sdm)
  AND (chosen_cohort IS NULL OR c.cohort_id = chosen_cohort)
