import Hummingbird
import RLWatchStore

// The web dashboard (issue 6) is being written here.
