-- Whether a prison runs a programme, written once: from programme_sites when that extract has rows for
-- the programme; otherwise (an older extract set) from what the programme's own extracts show —
-- cohorts for The Conversation, mapped services for the Good Prison Project.
CREATE OR REPLACE MACRO runs_programme(pid, prog) AS (
    CASE WHEN EXISTS (SELECT 1 FROM programme_sites s WHERE s.programme = prog)
         THEN EXISTS (SELECT 1 FROM programme_sites s WHERE s.programme = prog AND s.prison_id = pid)
         WHEN prog = 'the_conversation' THEN EXISTS (SELECT 1 FROM cohorts c WHERE c.prison_id = pid)
         WHEN prog = 'good_prison_project' THEN EXISTS (SELECT 1 FROM services s WHERE s.prison_id = pid)
         ELSE false
    END
)
