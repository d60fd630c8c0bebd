-- Which programmes each prison runs, built once at load: from programme_sites for a programme it has
-- rows for; otherwise (an older extract set) from what the programme's own extracts show (cohorts for
-- The Conversation, mapped services for the Good Prison Project). One row per prison that runs any.
WITH declared AS (SELECT DISTINCT programme FROM programme_sites),
membership AS (
    SELECT DISTINCT programme, prison_id FROM programme_sites
    UNION
    SELECT DISTINCT 'the_conversation' AS programme, prison_id FROM cohorts
    WHERE NOT EXISTS (SELECT 1 FROM declared WHERE programme = 'the_conversation')
    UNION
    SELECT DISTINCT 'good_prison_project' AS programme, prison_id FROM services
    WHERE NOT EXISTS (SELECT 1 FROM declared WHERE programme = 'good_prison_project')
)
SELECT prison_id,
       bool_or(programme = 'the_conversation') AS runs_the_conversation,
       bool_or(programme = 'good_prison_project') AS runs_good_prison_project
FROM membership
GROUP BY prison_id
