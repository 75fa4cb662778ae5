"""900.2 verify (确认/核验): is the requester who they claim to be, entitled to the
service, asking about something in scope, and does handling it need protected
information; is it a repeat. Each check is a small pure module that returns a
`Check`; the step (plugin/steps/s900_2_verify.py) runs them and `outcome` turns them
into one status, tags, a note and a routing suggestion."""
