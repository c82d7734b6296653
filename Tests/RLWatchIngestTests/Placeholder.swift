import Testing

@Test func placeholderRLWatchIngestTests() {}
