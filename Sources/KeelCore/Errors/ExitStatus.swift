/// Process exit statuses, with repmgr 5.3's numbers (`errcode.h`) so that scripts written for
/// repmgr keep working. `node check` single checks use Nagios codes (0–3) instead, see `NagiosStatus`.
public enum ExitStatus: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case success = 0
    case badConfig = 1
    case badRsync = 2
    case badPidFile = 3
    case noRestart = 4
    case localCommand = 5
    case dbConnection = 6
    case dbQuery = 7
    case promotionFailed = 8
    case monitoringTimeout = 9
    case stringOverflow = 10
    case failoverFailed = 11
    case badSSH = 12
    case systemFailure = 13
    case badBaseBackup = 14
    case internalError = 15
    case monitoringFailed = 16
    case badBackupLabel = 17
    case switchoverFailed = 18
    case barman = 19
    case registrationSync = 20
    case outOfMemory = 21
    case switchoverIncomplete = 22
    case followFailed = 23
    case rejoinFailed = 24
    case nodeStatus = 25
    case daemonPause = 26
    case daemonService = 27

    /// repmgr's symbolic name (`ERR_BAD_CONFIG` …), as printed in the README's table.
    public var description: String {
        switch self {
        case .success: "SUCCESS"
        case .badConfig: "ERR_BAD_CONFIG"
        case .badRsync: "ERR_BAD_RSYNC"
        case .badPidFile: "ERR_BAD_PIDFILE"
        case .noRestart: "ERR_NO_RESTART"
        case .localCommand: "ERR_LOCAL_COMMAND"
        case .dbConnection: "ERR_DB_CONN"
        case .dbQuery: "ERR_DB_QUERY"
        case .promotionFailed: "ERR_PROMOTION_FAIL"
        case .monitoringTimeout: "ERR_MONITORING_TIMEOUT"
        case .stringOverflow: "ERR_STR_OVERFLOW"
        case .failoverFailed: "ERR_FAILOVER_FAIL"
        case .badSSH: "ERR_BAD_SSH"
        case .systemFailure: "ERR_SYS_FAILURE"
        case .badBaseBackup: "ERR_BAD_BASEBACKUP"
        case .internalError: "ERR_INTERNAL"
        case .monitoringFailed: "ERR_MONITORING_FAIL"
        case .badBackupLabel: "ERR_BAD_BACKUP_LABEL"
        case .switchoverFailed: "ERR_SWITCHOVER_FAIL"
        case .barman: "ERR_BARMAN"
        case .registrationSync: "ERR_REGISTRATION_SYNC"
        case .outOfMemory: "ERR_OUT_OF_MEMORY"
        case .switchoverIncomplete: "ERR_SWITCHOVER_INCOMPLETE"
        case .followFailed: "ERR_FOLLOW_FAIL"
        case .rejoinFailed: "ERR_REJOIN_FAIL"
        case .nodeStatus: "ERR_NODE_STATUS"
        case .daemonPause: "ERR_REPMGRD_PAUSE"
        case .daemonService: "ERR_REPMGRD_SERVICE"
        }
    }
}

/// Nagios plugin return codes, used by `node check` for single checks (as repmgr does).
public enum NagiosStatus: Int32, Sendable, Comparable {
    case ok = 0, warning = 1, critical = 2, unknown = 3

    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    public var label: String {
        switch self {
        case .ok: "OK"
        case .warning: "WARNING"
        case .critical: "CRITICAL"
        case .unknown: "UNKNOWN"
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
