//! The real cases: one package that vendors, bundles or forks others, the
//! origin packages it took code from, and the manifest of the target that
//! says where the copies are. Only these specs are written by hand; which
//! file is a copy of which, and its lines and license, are derived at run
//! time (see `truth.rs`).

/// Where the target states what it vendors.
#[derive(Clone, Copy, Debug)]
pub enum Manifest {
    /// A `-sys` crate: the directory holding the origin's files is found by
    /// path correspondence and must be named in the crate's build code
    /// (`build.rs`, or `src/lib.rs` of a build helper such as lua-src).
    BuildRs(&'static str),
    /// pip's `vendor.txt` (`name==version` lines): `DIR/NAME/` or
    /// `DIR/NAME.py`, DIR being the file's directory.
    VendorTxt(&'static str),
    /// Go's `vendor/modules.txt` (`# MODULE VERSION` lines): `DIR/MODULE/`.
    GoModules(&'static str),
    /// Tomcat's `MERGE.txt` (`Sub-tree:` paragraphs naming a directory of
    /// the origin): the target directory is found by path correspondence.
    MergeTxt(&'static str),
    /// composer's `vendor/composer/installed.json`: `vendor/NAME/`.
    Composer(&'static str),
    /// The target's `debian/copyright` (DEP-5): each `Files:` stanza whose
    /// patterns all lie in one directory names that directory.
    Dep5,
    /// Directories `…/vendor/NAME/` (Django's static files).
    VendorDirs,
}

impl Manifest {
    /// The target file the manifest is read from, if it is one file.
    pub fn file(self) -> Option<&'static str> {
        match self {
            Manifest::BuildRs(p)
            | Manifest::VendorTxt(p)
            | Manifest::GoModules(p)
            | Manifest::MergeTxt(p)
            | Manifest::Composer(p) => Some(p),
            Manifest::Dep5 => Some("debian/copyright"),
            Manifest::VendorDirs => None,
        }
    }
}

/// An origin package and the name the target's manifest gives it.
pub struct Origin {
    pub spec: &'static str,
    /// The manifest's name for it: the `vendor.txt`/composer/Go module
    /// name, the `MERGE.txt` sub-tree, the DEP-5 directory, the vendor
    /// directory name; empty for [`Manifest::BuildRs`].
    pub name: &'static str,
}

pub struct Case {
    pub name: &'static str,
    pub language: &'static str,
    pub target: &'static str,
    /// Parts of the target scanned (path prefixes; empty: all of it but
    /// `debian/`): the vendored directories and some of the target's own
    /// code, so that false findings show.
    pub scan: &'static [&'static str],
    pub origins: &'static [Origin],
    pub manifest: Manifest,
}

const fn o(spec: &'static str, name: &'static str) -> Origin {
    Origin { spec, name }
}

pub const CASES: &[Case] = &[
    Case {
        name: "bzip2-sys",
        language: "C",
        target: "crate:bzip2-sys@0.1.13+1.0.8",
        scan: &[],
        origins: &[o("deb:bzip2=1.0.8-5", "")],
        manifest: Manifest::BuildRs("build.rs"),
    },
    Case {
        name: "lz4-sys",
        language: "C",
        target: "crate:lz4-sys@1.11.1+lz4-1.10.0",
        scan: &[],
        origins: &[o("deb:lz4=1.9.4-1", "")],
        manifest: Manifest::BuildRs("build.rs"),
    },
    Case {
        name: "lua-src",
        language: "C",
        target: "crate:lua-src@547.0.0",
        // Lua 5.2 and 5.3, also bundled, are releases not in the index.
        scan: &["lua-5.4.7/", "lua-5.1.5/", "src/", "Cargo.toml"],
        origins: &[
            o("deb:lua5.4=5.4.4-3+deb12u1", ""),
            o("deb:lua5.1=5.1.5-9", ""),
        ],
        manifest: Manifest::BuildRs("src/lib.rs"),
    },
    Case {
        name: "redis",
        language: "C",
        target: "deb:redis=5:7.0.15-1~deb12u10",
        scan: &["deps/lua/", "deps/jemalloc/", "src/"],
        origins: &[
            o("deb:lua5.1=5.1.5-9", "deps/lua"),
            o("deb:jemalloc=5.3.0-1", "deps/jemalloc"),
        ],
        manifest: Manifest::Dep5,
    },
    Case {
        name: "librocksdb-sys",
        language: "C++",
        target: "crate:librocksdb-sys@0.19.0+11.8.1",
        scan: &["snappy/", "src/", "build.rs", "rocksdb/cache/"],
        origins: &[o("deb:snappy=1.1.9-3", "")],
        manifest: Manifest::BuildRs("build.rs"),
    },
    Case {
        name: "pip",
        language: "Python",
        target: "pypi:pip==23.0.1",
        scan: &[],
        origins: &[
            o("pypi:requests==2.28.2", "requests"),
            o("pypi:urllib3==1.26.14", "urllib3"),
            o("pypi:idna==3.4", "idna"),
            o("pypi:chardet==5.1.0", "chardet"),
            o("pypi:six==1.16.0", "six"),
        ],
        manifest: Manifest::VendorTxt("src/pip/_vendor/vendor.txt"),
    },
    Case {
        name: "django",
        language: "JavaScript",
        target: "pypi:Django==4.2.16",
        scan: &["django/contrib/admin/static/"],
        origins: &[
            o("npm:jquery@3.6.4", "jquery"),
            o("npm:select2@4.0.13", "select2"),
            o("npm:xregexp@3.2.0", "xregexp"),
        ],
        manifest: Manifest::VendorDirs,
    },
    Case {
        name: "golang-1.19",
        language: "Go",
        target: "deb:golang-1.19=1.19.8-2",
        scan: &["src/vendor/", "src/net/textproto/", "src/strings/"],
        origins: &[
            o("deb:golang-golang-x-net=1:0.7.0+dfsg-1", "golang.org/x/net"),
            o("deb:golang-golang-x-text=0.7.0-1", "golang.org/x/text"),
        ],
        manifest: Manifest::GoModules("src/vendor/modules.txt"),
    },
    Case {
        name: "tomcat9",
        language: "Java",
        target: "deb:tomcat9=9.0.70-2",
        scan: &[
            "java/org/apache/tomcat/dbcp/pool2/",
            "java/org/apache/tomcat/util/codec/",
            "java/org/apache/catalina/core/",
        ],
        origins: &[
            o(
                "deb:commons-pool2=2.11.1-1",
                "src/main/java/org/apache/commons/pool2",
            ),
            o(
                "deb:libcommons-codec-java=1.15-1",
                "src/main/java/org/apache/commons/codec",
            ),
        ],
        manifest: Manifest::MergeTxt("MERGE.txt"),
    },
    Case {
        name: "mediawiki",
        language: "PHP",
        target: "deb:mediawiki=1:1.39.17-1+deb12u2",
        scan: &[
            "vendor/guzzlehttp/psr7/",
            "vendor/guzzlehttp/promises/",
            "vendor/psr/log/",
            "vendor/monolog/monolog/",
            "includes/http/",
            "includes/json/",
        ],
        origins: &[
            o("deb:php-guzzlehttp-psr7=2.4.5-1+deb12u1", "guzzlehttp/psr7"),
            o("deb:php-guzzlehttp-promises=1.5.2-1", "guzzlehttp/promises"),
            o("deb:php-psr-log=1.1.4-2", "psr/log"),
            o("deb:php-monolog=2.9.1-1", "monolog/monolog"),
        ],
        manifest: Manifest::Composer("vendor/composer/installed.json"),
    },
];
