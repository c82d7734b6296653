import RLWatchStore
import Testing

@Suite struct OutboxDoorbellTests {
    let clock = ContinuousClock()

    @Test func aRingWithNoWaiterIsKeptForTheNextWaitOnly() async throws {
        let doorbell = OutboxDoorbell()
        doorbell.ring()
        doorbell.ring()
        #expect(try await clock.measure { await doorbell.wait(upTo: .seconds(120)) } < .seconds(60))
        // Two rings before a wait are one wake-up: the next wait sleeps to its timeout.
        #expect(try await clock.measure { await doorbell.wait(upTo: .milliseconds(200)) } >= .milliseconds(200))
    }

    @Test func aRingWakesTheWaiter() async throws {
        let doorbell = OutboxDoorbell()
        let waiter = Task { [clock] in await clock.measure { await doorbell.wait(upTo: .seconds(120)) } }
        try await Task.sleep(for: .milliseconds(100))
        doorbell.ring()
        #expect(await waiter.value < .seconds(60))
    }

    @Test func cancellingTheWaiterReleasesIt() async throws {
        let doorbell = OutboxDoorbell()
        let waiter = Task { [clock] in await clock.measure { await doorbell.wait(upTo: .seconds(120)) } }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        #expect(await waiter.value < .seconds(60))
        // The bell still works for the next waiter.
        doorbell.ring()
        #expect(try await clock.measure { await doorbell.wait(upTo: .seconds(120)) } < .seconds(60))
    }
}
