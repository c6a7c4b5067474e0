--- Exit statuses of `ecs`.
return {
  OK = 0,            -- every targeted instance succeeded (or the command did what it says)
  FAILED = 1,        -- an instance failed, timed out, was cancelled, skipped or not launched
  USAGE = 2,         -- a bad command line (a short help is printed)
  SERVICE = 3,       -- the service or the network refused or failed
  INTERNAL = 70,     -- a fault of ecs itself
  INTERRUPTED = 130, -- Ctrl-C (started invocations were asked to stop)
}
