// swift-tools-version: 6.2
import PackageDescription

// Keel: a repmgr-compatible replication and failover manager for PostgreSQL with in-process Lua hooks.
// Layout: KeelCore is pure (no libpq, no Lua, no processes, no clock);
// KeelPostgres and KeelLua are the adapters; KeelOps holds the operations; keel and keeld are thin.
// Release links of keel and keeld on Linux (measured by `scripts/bench lean`):
// - lld with packed relative relocations (DT_RELR, glibc 2.36+): a start reads about ten kilobytes of
//   relocations instead of 1.1 MB (keel) or 2.6 MB (keeld) of RELA entries, which also stayed resident;
// - no exported symbol table (`-export-dynamic` is the toolchain's default): at start the Swift runtime's
//   `dladdr` of its own path walked every exported symbol, about 2 MB of keeld's resident memory.
//   Backtraces still name functions (the backtracer reads the file's own symbol table).
let leanLink: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                   "-Xlinker", "--no-export-dynamic"],
                 .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "keel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "keel", targets: ["keel"]),
        .executable(name: "keeld", targets: ["keeld"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Without its default traits: FullFoundation would link Foundation's full module and ICU's data into
        // keeld; ConfigurationSupport would build swift-configuration, which keeld does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        .target(name: "KeelCore"),
        .target(name: "KeelPostgres", dependencies: ["CLibPQ", "KeelCore"]),
        // The optional consensus store: etcd's v3 JSON gateway over a small HTTP/1.1 client (no dependency).
        .target(name: "KeelNet", dependencies: ["KeelCore"]),
        .target(name: "KeelDCS", dependencies: ["KeelCore", "KeelNet"]),
        .target(name: "KeelLua", dependencies: ["CLuaShim", "CLua", "KeelCore"]),
        .target(
            name: "KeelOps",
            dependencies: [
                "KeelCore", "KeelPostgres", "KeelLua", "KeelDCS", "KeelNet",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "keel",
            dependencies: [
                "KeelOps", "KeelCore", "KeelDCS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: leanLink
        ),
        .target(
            name: "KeelDaemon",
            dependencies: [
                "KeelCore", "KeelPostgres", "KeelOps", "KeelDCS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "keeld",
            dependencies: [
                "KeelDaemon", "KeelOps", "KeelCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: leanLink
        ),
        // scripts/bench hooks: Lua vs shell hook latency and the event queue's throughput (not a product).
        .executableTarget(name: "keel-bench", dependencies: ["KeelDaemon", "KeelOps", "KeelLua", "KeelCore",
                                                             .product(name: "Logging", package: "swift-log")]),
        .target(name: "KeelTesting", dependencies: ["KeelCore", "KeelPostgres"]),
        .testTarget(name: "KeelCoreTests", dependencies: ["KeelCore"]),
        .testTarget(name: "KeelLuaTests", dependencies: ["KeelLua", "KeelCore"]),
        .testTarget(name: "KeelOpsTests", dependencies: ["KeelOps", "KeelPostgres", "KeelLua", "KeelCore", "KeelTesting"]),
        .testTarget(name: "KeelDaemonTests", dependencies: ["KeelDaemon", "KeelCore", "KeelDCS"]),
        .testTarget(name: "KeelDCSTests", dependencies: ["KeelDCS", "KeelCore", "KeelNet"]),
        .testTarget(name: "KeelIntegrationTests", dependencies: ["KeelTesting", "KeelOps", "KeelPostgres", "KeelCore", "KeelDCS", "KeelNet"]),
    ]
)
