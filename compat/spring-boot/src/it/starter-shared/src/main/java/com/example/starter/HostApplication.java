package com.example.starter;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A Spring Boot service with nothing of conea but its starter. */
@SpringBootApplication
public class HostApplication {

  public static void main(String[] args) {
    SpringApplication.run(HostApplication.class, args);
  }
}
