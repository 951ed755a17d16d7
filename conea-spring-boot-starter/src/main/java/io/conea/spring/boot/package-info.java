/**
 * Spring Boot auto-configuration of conea: the monitoring guide's meters, spans and JSON log lines
 * from one dependency, {@code io.conea:conea-spring-boot-starter}, on Spring Boot 3.5 and 4.0.
 *
 * <p>Everything is configured under the {@code conea.*} prefix ({@link
 * io.conea.spring.boot.ConeaProperties}); every bean backs off when the application defines its
 * own.
 */
@NullMarked
package io.conea.spring.boot;

import org.jspecify.annotations.NullMarked;
