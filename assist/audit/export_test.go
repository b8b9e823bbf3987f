package audit

// Test helpers exported to the tests in package audit_test: those use
// audittest, which imports this package, so they cannot live in it.
var (
	OpenTestLog = openTestLog
	TestEvent   = testEvent
	TestPub     = testPub
	FindingsOf  = findingsOf
	BaseTime    = baseTime
)
