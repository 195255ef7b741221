plugins {
    java
    id("org.springframework.boot") version "3.3.0"
}

dependencyLocking {
    lockAllConfigurations()
}

dependencies {
    implementation(libs.jackson.databind)
    implementation("com.google.guava:guava:33.2.1-jre")
    compileOnly(group = "org.projectlombok", name = "lombok", version = "1.18.32")
    annotationProcessor("org.projectlombok:lombok:1.18.32")
    testImplementation(platform("org.junit:junit-bom:5.10.2"))
    testImplementation(libs.junit.jupiter.api)
}
