-- The cohort-detail scope, written once: a cohort's detail is visible to a viewer with no prison
-- scope (administrators), in a governor's prisons, or to the SDM who runs it. Funders see none.
CREATE OR REPLACE MACRO can_see_cohort(prison_id, sdm, scope_prisons, scope_sdm) AS
    (scope_prisons IS NULL OR list_contains(scope_prisons, prison_id) OR sdm = scope_sdm)
