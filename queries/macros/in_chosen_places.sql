-- The place filter every Overview query applies, written once: a row is in the chosen prisons and, when
-- wings are chosen, on one of them -- and a wing filter counts only where the viewer may see wings
-- (`can_see_wings`), so a link naming wings cannot narrow another prison's figures to one wing.
CREATE OR REPLACE MACRO in_chosen_places(prison_id, wing_id, prison_ids, wing_ids, scope_prisons) AS
    list_contains(prison_ids, prison_id)
    AND (wing_ids IS NULL OR (list_contains(wing_ids, wing_id) AND can_see_wings(prison_id, scope_prisons)))
