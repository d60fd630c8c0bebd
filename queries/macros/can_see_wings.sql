-- The wing-detail scope, written once: wing rows, wing filters and cohort markers of a prison are
-- visible to a viewer with no prison scope (administrators) or to a governor of that prison.
CREATE OR REPLACE MACRO can_see_wings(prison_id, scope_prisons) AS
    (scope_prisons IS NULL OR list_contains(scope_prisons, prison_id))
